//! Test fixtures: a fresh database per test and a running server, and the
//! helpers every test module shares (each test module imports from here only).

pub mod contracts;
pub mod dispatch;
pub mod hardening;
pub mod identity;
pub mod kafka;
pub mod loans;
pub mod mail;
pub mod partners;
pub mod scheduling;
pub mod session;
pub mod tls;

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use facesign::{RunningServer, Settings};
use std::collections::BTreeMap;

use serde_json::{json, Value};
use sqlx::{Connection, PgConnection};

/// The two backends every end-to-end test runs on.
#[derive(Debug, Clone, Copy)]
pub enum Backend {
    Postgres,
    Sqlite,
}

fn admin_url() -> String {
    std::env::var("FACESIGN_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string())
}

/// A database that exists only for one test and is removed afterwards.
pub struct TestDb {
    pub url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    Postgres { name: String },
    Sqlite { _dir: TempDir },
}

/// Runs `command` to its end and fails the test, saying `what` with the
/// command's output, unless it succeeded (a missing program included).
pub fn run_ok(mut command: std::process::Command, what: &str) {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot run it ({e})"));
    assert!(
        output.status.success(),
        "{what}: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A directory removed on drop.
pub struct TempDir(std::path::PathBuf);

impl TempDir {
    pub fn new() -> Self {
        static N: AtomicU64 = AtomicU64::new(0);
        let path = std::env::temp_dir().join(format!(
            "facesign-test-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&path).expect("create temp dir");
        Self(path)
    }

    pub fn path(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl TestDb {
    pub async fn new(backend: Backend) -> Self {
        match backend {
            Backend::Postgres => {
                let name = format!("facesign_test_{}", uuid::Uuid::now_v7().simple());
                let mut admin = PgConnection::connect(&admin_url()).await.unwrap_or_else(|e| {
                    panic!(
                        "Postgres is required for this test at {} (set FACESIGN_TEST_POSTGRES_URL): {e}",
                        admin_url()
                    )
                });
                sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(&mut admin)
                    .await
                    .expect("create test database");
                let base = admin_url();
                let url = format!(
                    "{}/{name}",
                    &base[..base.rfind('/').expect("database in URL")]
                );
                Self {
                    url,
                    cleanup: Cleanup::Postgres { name },
                }
            }
            Backend::Sqlite => {
                let dir = TempDir::new();
                let url = format!("sqlite://{}", dir.path().join("facesign.db").display());
                Self {
                    url,
                    cleanup: Cleanup::Sqlite { _dir: dir },
                }
            }
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        // Every event a test recorded keeps its published contract (issue 23 item 5).
        let violations = if std::thread::panicking() {
            Vec::new()
        } else {
            contracts::check_log(&self.url).1
        };
        if let Cleanup::Postgres { name } = &self.cleanup {
            let name = name.clone();
            // Drop runs outside any runtime guarantee: use a private one.
            let _ = std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("runtime");
                runtime.block_on(async move {
                    if let Ok(mut admin) = PgConnection::connect(&admin_url()).await {
                        let _ =
                            sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                                .execute(&mut admin)
                                .await;
                    }
                });
            })
            .join();
        }
        assert!(
            violations.is_empty(),
            "events break their published contract (docs/contracts/; regenerate with `cargo run -- contracts` if the change is meant):\n{}",
            violations.join("\n")
        );
    }
}

/// Settings for a test server on `url`, listening on a free port.
pub fn settings(url: &str) -> Settings {
    let mut settings = Settings::for_database(url);
    settings.bind = "127.0.0.1:0".to_string();
    settings.max_connections = 8;
    settings.read_your_writes_timeout = Duration::from_secs(10);
    // Above the read-your-writes wait, so a slow CI machine sees `projected: false`, not TIMEOUT.
    settings.request_deadline = Duration::from_secs(30);
    settings.projection_poll_interval = Duration::from_millis(100);
    settings.timer_poll_interval = Duration::from_millis(100);
    settings.jwt_secret = secrecy::SecretString::from(TEST_JWT_SECRET.to_string());
    settings.rate_limit_per_second = 100_000;
    settings.rate_limit_burst = 100_000;
    settings
}

/// Held by the tests that load the whole machine (the hostile loads) and by
/// those whose browser waits are timed (the console), so that on a 2-core
/// machine they never run at the same time.
pub static WHOLE_MACHINE: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The face-compare service: the only source of identity-check and face-check verdicts.
pub const VERIFIER: (&str, &str) = ("FACE-COMPARE", "VERIFICATION_SERVICE");

/// The secret test servers sign tokens with.
pub const TEST_JWT_SECRET: &str = "integration-test-secret-0123456789abcdef";

/// A bearer token for `sub` in `role`, valid on test servers.
pub fn token(sub: &str, role: &str) -> String {
    let keys = api::auth::JwtKeys::new(&secrecy::SecretString::from(TEST_JWT_SECRET.to_string()));
    let role = domain::role::Role::parse(role).unwrap_or_else(|| panic!("unknown role {role}"));
    keys.mint(sub, role, 3600)
}

/// A server on a fresh database, and an HTTP client for it.
pub struct TestApp {
    pub db: TestDb,
    pub server: Option<RunningServer>,
    pub client: reqwest::Client,
    pub base: String,
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> Self {
        let db = TestDb::new(backend).await;
        Self::spawn_on(db, settings).await
    }

    /// Starts a server on an existing database, with settings of its own.
    pub async fn spawn_on(db: TestDb, settings_for: impl FnOnce(&str) -> Settings) -> Self {
        let server = facesign::serve(&settings_for(&db.url))
            .await
            .expect("server starts");
        let base = format!("http://{}", server.addr);
        Self {
            db,
            server: Some(server),
            client: reqwest::Client::new(),
            base,
        }
    }

    /// Stops the server gracefully; the database lives on in the returned handle.
    pub async fn stop(mut self) -> TestDb {
        if let Some(server) = self.server.take() {
            server.stop().await.expect("clean shutdown");
        }
        self.db
    }

    /// Sends a GraphQL request with `token` (or none) and returns the status and body.
    pub async fn graphql_with_token(
        &self,
        token: Option<&str>,
        query: &str,
        variables: Value,
    ) -> (u16, Value) {
        let mut request = self
            .client
            .post(format!("{}/graphql", self.base))
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.expect("request sent");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// Sends a GraphQL request as `actor` (id, role) and returns the whole response body.
    pub async fn graphql_as(&self, actor: (&str, &str), query: &str, variables: Value) -> Value {
        let response = self
            .client
            .post(format!("{}/graphql", self.base))
            .bearer_auth(token(actor.0, actor.1))
            .header("x-request-id", uuid::Uuid::now_v7().to_string())
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await
            .expect("request sent");
        assert!(
            response.status().is_success(),
            "GraphQL answered HTTP {}",
            response.status()
        );
        response.json().await.expect("JSON body")
    }

    pub async fn graphql(&self, query: &str, variables: Value) -> Value {
        self.graphql_as(("M0001", "ACCOUNT_MANAGER"), query, variables)
            .await
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .expect("request sent")
    }

    /// A direct pool on the test database for assertions on stored rows.
    pub async fn any_pool(&self) -> sqlx::AnyPool {
        sqlx::any::install_default_drivers();
        sqlx::AnyPool::connect(&self.db.url).await.expect("connect")
    }

    pub async fn event_count(&self) -> i64 {
        let pool = self.any_pool().await;
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM events")
            .fetch_one(&pool)
            .await
            .expect("count events");
        pool.close().await;
        n
    }
}

/// The error code of the first GraphQL error, panicking when there is none.
pub fn error_code(response: &Value) -> &str {
    response["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("expected a GraphQL error with a code, got {response}"))
}

/// Asserts there is no GraphQL error and returns `data`.
pub fn data(response: &Value) -> &Value {
    assert!(
        response.get("errors").is_none(),
        "unexpected GraphQL errors: {response}"
    );
    &response["data"]
}

pub const CREATE_TASK: &str = r#"
mutation Create($input: CreateInterviewTaskInput!) {
  createInterviewTask(input: $input) {
    taskId projected position eventIds
    task { id contractNo kind status statusLabel borrowerName version requiredSteps
           participants { name idNumber phone roles isMainBorrower } }
  }
}"#;

pub const CANCEL_TASK: &str = r#"
mutation Cancel($id: ID!, $reason: String!) {
  cancelInterviewTask(id: $id, reason: $reason) {
    taskId projected position eventIds
    task { id status statusLabel cancelReason version }
  }
}"#;

/// A valid create input for `contract_no` (001: borrower who is also co-owner, and a spouse).
pub fn task_input(contract_no: &str) -> Value {
    json!({
        "contractNo": contract_no,
        "kind": "YONGXU_VIDEO_INTERVIEW",
        "productCode": "YXD",
        "channelCode": "YYZX",
        "managerId": "M0001",
        "participants": [
            { "name": "邓小闲", "idNumber": "410102198503121017", "phone": "15618293093", "roles": ["BORROWER"] },
            { "name": "邓小闲", "idNumber": "410102198503121017", "phone": "15618293093", "roles": ["CO_OWNER"] },
            { "name": "李婉清", "idNumber": "410102198707222020", "phone": "13912345678", "roles": ["SPOUSE"] }
        ]
    })
}

/// Creates a task through GraphQL and returns its id.
pub async fn create_task(app: &TestApp, contract_no: &str) -> String {
    let response = app
        .graphql(CREATE_TASK, json!({ "input": task_input(contract_no) }))
        .await;
    data(&response)["createInterviewTask"]["taskId"]
        .as_str()
        .expect("task id")
        .to_string()
}

/// A GraphQL subscription over `graphql-transport-ws`, authenticated in
/// `connection_init` as `actor`.
pub struct Subscription {
    socket: tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
}

impl Subscription {
    /// Connects, authenticates and subscribes with `query` and `variables`.
    pub async fn start(app: &TestApp, actor: (&str, &str), query: &str, variables: Value) -> Self {
        Self::start_at(&app.base, actor, query, variables).await
    }

    /// The same against the server at `base` (`http://host:port`).
    pub async fn start_at(base: &str, actor: (&str, &str), query: &str, variables: Value) -> Self {
        Self::start_in(base, actor, None, query, variables).await
    }

    /// The same, naming the socket's language in `connection_init` (`acceptLanguage`).
    pub async fn start_in(
        base: &str,
        actor: (&str, &str),
        accept_language: Option<&str>,
        query: &str,
        variables: Value,
    ) -> Self {
        use futures_util::SinkExt;
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        use tokio_tungstenite::tungstenite::Message;

        let mut request = format!("{}/graphql/ws", base.replace("http", "ws"))
            .into_client_request()
            .unwrap();
        request.headers_mut().insert(
            "sec-websocket-protocol",
            "graphql-transport-ws".parse().unwrap(),
        );
        let (socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
        let mut subscription = Self { socket };
        let mut init = json!({
            "type": "connection_init",
            "payload": { "authorization": format!("Bearer {}", token(actor.0, actor.1)) }
        });
        if let Some(language) = accept_language {
            init["payload"]["acceptLanguage"] = json!(language);
        }
        subscription
            .socket
            .send(Message::Text(init.to_string().into()))
            .await
            .unwrap();
        let ack = subscription.next_message().await;
        assert_eq!(ack["type"], "connection_ack", "{ack}");
        let subscribe = json!({
            "id": "1", "type": "subscribe",
            "payload": { "query": query, "variables": variables }
        });
        subscription
            .socket
            .send(Message::Text(subscribe.to_string().into()))
            .await
            .unwrap();
        subscription
    }

    /// The next text message of the socket, whatever its type.
    pub async fn next_message(&mut self) -> Value {
        use futures_util::StreamExt;
        use tokio_tungstenite::tungstenite::Message;
        loop {
            let message = tokio::time::timeout(Duration::from_secs(10), self.socket.next())
                .await
                .expect("a message in time")
                .expect("socket open")
                .unwrap();
            if let Message::Text(text) = message {
                return serde_json::from_str(&text).unwrap();
            }
        }
    }

    /// The `data` of the next pushed result.
    pub async fn next_data(&mut self) -> Value {
        let message = self.next_message().await;
        assert_eq!(message["type"], "next", "{message}");
        assert!(message["payload"].get("errors").is_none(), "{message}");
        message["payload"]["data"].clone()
    }
}

/// A tansu broker (a Kafka-protocol broker) on a free port, memory storage,
/// killed on drop. Fails loudly when tansu is not installed: `scripts/test`
/// installs it (`cargo install tansu --locked --features dynostore`).
pub struct Broker {
    child: std::process::Child,
    pub address: String,
}

impl Broker {
    pub async fn start() -> Self {
        Self::start_advertising(None).await
    }

    /// A broker that tells clients to reach it at `127.0.0.1:<advertised>`
    /// (a TLS proxy in front of it), or at its own address.
    pub async fn start_advertising(advertised: Option<u16>) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let address = format!("127.0.0.1:{port}");
        let url = format!("tcp://{address}");
        let advertised_url =
            advertised.map_or(url.clone(), |port| format!("tcp://127.0.0.1:{port}"));
        let mut child = std::process::Command::new(tansu_binary())
            .args(["broker", "--listener-url", &url, "--advertised-listener-url", &advertised_url])
            .args(["--storage-engine", "memory://tansu/"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start tansu ({e}); install it with `cargo install tansu --locked --features dynostore` (scripts/test does)")
            });
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(&address).await.is_ok() {
                return Self { child, address };
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("tansu did not listen on {address}");
    }

    /// Freezes the broker (SIGSTOP): connections stay open, nothing answers.
    pub fn stop(&self) {
        signal(self.child.id(), "STOP");
    }

    /// Resumes a frozen broker (SIGCONT) with everything it held.
    pub fn resume(&self) {
        signal(self.child.id(), "CONT");
    }
}

fn signal(pid: u32, name: &str) {
    let status = std::process::Command::new("kill")
        .args([format!("-{name}"), pid.to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success(), "kill -{name} {pid}");
}

fn tansu_binary() -> String {
    std::env::var("FACESIGN_TANSU").unwrap_or_else(|_| {
        let home = std::env::var("HOME").unwrap_or_default();
        let installed = format!("{home}/.cargo/bin/tansu");
        if std::path::Path::new(&installed).exists() {
            installed
        } else {
            "tansu".to_string()
        }
    })
}

impl Drop for Broker {
    fn drop(&mut self) {
        signal(self.child.id(), "CONT");
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Every message of `topics` from the beginning, as (topic, key, headers, value),
/// read until messages with `expected` distinct `event-id` headers arrived or
/// 30 s passed (the relay is at least once: repeats may come too).
pub fn read_topics(
    brokers: &str,
    topics: &[String],
    partitions: i32,
    expected: usize,
) -> Vec<(
    String,
    String,
    std::collections::BTreeMap<String, String>,
    Value,
)> {
    use rdkafka::consumer::{BaseConsumer, Consumer};
    use rdkafka::message::{Headers, Message};
    use rdkafka::{Offset, TopicPartitionList};

    let consumer: BaseConsumer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set(
            "group.id",
            format!("facesign-test-{}", uuid::Uuid::now_v7()),
        )
        .set("enable.auto.commit", "false")
        .create()
        .expect("consumer");
    let mut assignment = TopicPartitionList::new();
    for topic in topics {
        for partition in 0..partitions {
            assignment
                .add_partition_offset(topic, partition, Offset::Beginning)
                .expect("assignment");
        }
    }
    consumer.assign(&assignment).expect("assign");
    let mut out = Vec::new();
    let mut distinct = std::collections::HashSet::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while distinct.len() < expected && std::time::Instant::now() < deadline {
        let Some(message) = consumer.poll(Duration::from_millis(200)) else {
            continue;
        };
        let Ok(message) = message else {
            continue;
        };
        let headers = message
            .headers()
            .map(|h| {
                h.iter()
                    .map(|header| {
                        (
                            header.key.to_string(),
                            String::from_utf8_lossy(header.value.unwrap_or_default()).to_string(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        let headers: std::collections::BTreeMap<String, String> = headers;
        let value: Value =
            serde_json::from_slice(message.payload().unwrap_or_default()).unwrap_or(Value::Null);
        if message.topic().starts_with("facesign.") {
            if let Some(violation) = contracts::contracts().message_violations(&value) {
                panic!("a published event breaks its contract (docs/contracts/): {violation}");
            }
        }
        distinct.insert(headers.get("event-id").cloned().unwrap_or_default());
        out.push((
            message.topic().to_string(),
            String::from_utf8_lossy(message.key().unwrap_or_default()).to_string(),
            headers,
            value,
        ));
    }
    out
}

/// Starts `facesign serve` as its own process on `database_url` and `port`
/// (test secret, no rate limit, plus `env`), its log in `log`; returns once
/// `/healthz` answers, and fails with the log when it does not.
pub async fn start_server_process(
    database_url: &str,
    port: u16,
    log: &std::path::Path,
    env: &[(&str, &str)],
) -> std::process::Child {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_facesign"))
        .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
        .env("FACESIGN_DATABASE_URL", database_url)
        .env("FACESIGN_JWT_SECRET", TEST_JWT_SECRET)
        .env("FACESIGN_RATE_LIMIT_PER_SECOND", "100000")
        .env("FACESIGN_RATE_LIMIT_BURST", "100000")
        .envs(env.iter().copied())
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(log).expect("a log file"))
        .spawn()
        .expect("facesign starts");
    let client = reqwest::Client::new();
    for _ in 0..150 {
        if client
            .get(format!("http://127.0.0.1:{port}/healthz"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return child;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!(
        "the server did not start: {}",
        std::fs::read_to_string(log).unwrap_or_default()
    );
}

/// A port nothing listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// Runs `facesign replay --verify` on `database_url` and asserts that every
/// projection equals its rebuild from the log.
pub fn assert_projections_equal_a_rebuild(database_url: &str) {
    let verify = std::process::Command::new(env!("CARGO_BIN_EXE_facesign"))
        .args(["replay", "--verify"])
        .env("FACESIGN_DATABASE_URL", database_url)
        .output()
        .expect("facesign runs");
    assert!(
        verify.status.success(),
        "projections equal a rebuild: {}",
        String::from_utf8_lossy(&verify.stderr)
    );
}

/// The introspection query the schema walkers use.
pub const INTROSPECT: &str = r#"{ __schema {
  queryType { name } mutationType { name } subscriptionType { name }
  types { name kind enumValues { name }
    inputFields { name type { kind name ofType { kind name ofType { kind name ofType { kind name } } } } }
    fields { name
      type { kind name ofType { kind name ofType { kind name ofType { kind name } } } }
      args { name type { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } } } }"#;

/// Every type of the schema by name, from introspection.
pub struct SchemaTypes(pub BTreeMap<String, Value>);

impl SchemaTypes {
    /// A value for a required argument of type `ty`.
    pub fn sample(&self, ty: &Value) -> Value {
        match ty["kind"].as_str().unwrap() {
            "NON_NULL" => self.sample(&ty["ofType"]),
            "LIST" => json!([self.sample(&ty["ofType"])]),
            "ENUM" => self.0[ty["name"].as_str().unwrap()]["enumValues"][0]["name"].clone(),
            "INPUT_OBJECT" => {
                let input = &self.0[ty["name"].as_str().unwrap()];
                let mut object = serde_json::Map::new();
                for field in input["inputFields"].as_array().unwrap() {
                    if field["type"]["kind"] == "NON_NULL" {
                        object.insert(
                            field["name"].as_str().unwrap().to_string(),
                            self.sample(&field["type"]),
                        );
                    }
                }
                Value::Object(object)
            }
            _ => match ty["name"].as_str().unwrap() {
                "Int" => json!(1),
                "Float" => json!(0.5),
                "Boolean" => json!(false),
                "ID" => json!(uuid::Uuid::now_v7().to_string()),
                "DateTime" => json!((chrono::Utc::now() + chrono::Duration::days(1)).to_rfc3339()),
                "NaiveTime" => json!("09:00:00"),
                _ => json!("x"),
            },
        }
    }

    pub fn is_object(&self, ty: &Value) -> bool {
        match ty["kind"].as_str().unwrap() {
            "NON_NULL" | "LIST" => self.is_object(&ty["ofType"]),
            kind => kind == "OBJECT",
        }
    }

    /// `(operation name, GraphQL document, variables)` for every root field of `root`.
    pub fn operations(&self, keyword: &str, root: &str) -> Vec<(String, String, Value)> {
        let mut operations = Vec::new();
        for field in self.0[root]["fields"].as_array().unwrap() {
            let name = field["name"].as_str().unwrap();
            let mut arguments = Vec::new();
            let mut variables = serde_json::Map::new();
            for arg in field["args"].as_array().unwrap() {
                if arg["type"]["kind"] == "NON_NULL" {
                    let arg_name = arg["name"].as_str().unwrap();
                    arguments.push(format!(
                        "{arg_name}: {}",
                        to_literal(&self.sample(&arg["type"]))
                    ));
                    variables.insert(arg_name.to_string(), Value::Null);
                }
            }
            let arguments = if arguments.is_empty() {
                String::new()
            } else {
                format!("({})", arguments.join(", "))
            };
            let selection = if self.is_object(&field["type"]) {
                " { __typename }"
            } else {
                ""
            };
            operations.push((
                format!("{root}.{name}"),
                format!("{keyword} {{ {name}{arguments}{selection} }}"),
                json!({}),
            ));
        }
        operations
    }
}

/// A JSON value as a GraphQL literal (enum values unquoted).
pub fn to_literal(value: &Value) -> String {
    match value {
        Value::String(s)
            if s.chars().all(|c| c.is_ascii_uppercase() || c == '_') && s.len() > 1 =>
        {
            s.clone()
        }
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(to_literal).collect::<Vec<_>>().join(", ")
        ),
        Value::Object(map) => format!(
            "{{{}}}",
            map.iter()
                .map(|(k, v)| format!("{k}: {}", to_literal(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        other => other.to_string(),
    }
}

/// The schema's types and its query, mutation and subscription root names.
pub async fn schema_types(app: &TestApp) -> (SchemaTypes, [String; 3]) {
    let response = app
        .graphql_as(("A001", "ADMIN"), INTROSPECT, json!({}))
        .await;
    let schema = &data(&response)["__schema"];
    let types = schema["types"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["name"].as_str().unwrap().to_string(), t.clone()))
        .collect();
    let roots = [
        schema["queryType"]["name"].as_str().unwrap().to_string(),
        schema["mutationType"]["name"].as_str().unwrap().to_string(),
        schema["subscriptionType"]["name"]
            .as_str()
            .unwrap()
            .to_string(),
    ];
    (SchemaTypes(types), roots)
}

/// Runs each listed test on Postgres and on SQLite.
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name(super::Backend::Postgres).await; })*
        }
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name(super::Backend::Sqlite).await; })*
        }
    };
}

pub(crate) use on_both_backends;

/// Runs the `facesign` binary with `args` against `database_url` (no JWT
/// secret: the demo's), returning what it printed and its exit status.
pub fn facesign_cli(args: &[&str], database_url: &str) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_facesign"))
        .args(args)
        .env("FACESIGN_DATABASE_URL", database_url)
        .env_remove("FACESIGN_JWT_SECRET")
        .env("RUST_LOG", "warn")
        .output()
        .expect("run facesign")
}
