//! `facesign-bench`: measures, in one run on one machine, what the database
//! itself commits (the raw baseline) and what facesign does on top of it, and
//! writes BENCHMARKS.md with the machine, the raw figures, the ratios and the
//! targets of the benchmarks issue. `--quick` shrinks every run so CI proves
//! the harness works; the figures of a quick run mean little.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use domain::channel::{Channel, ChannelCommand, ChannelSettings};
use domain::interview_task::{
    CreateInterviewTask, IdType, InterviewTask, InterviewTaskCommand, ParticipantInput,
    ParticipantRole, TaskKind,
};
use domain::log::Actor;
use projections::task_board::{TaskBoard, TaskFilter};
use sqlx::{Connection, PgConnection};
use store::{CommandContext, LogWorker as _};
use tokio::sync::watch;

use facesign::{Engine, Settings};

use crate::server::{self, ServerProcess, SECRET};

/// How big each run is.
#[derive(Debug, Clone, Copy)]
pub struct Scale {
    /// Seconds of each throughput run.
    pub seconds: f64,
    /// Events generated for the rebuild and search runs.
    pub events: i64,
    /// Events the relay publishes in its throughput run.
    pub relay_events: i64,
    /// Fixed request rates of the latency runs.
    pub rates: &'static [u32],
}

impl Scale {
    /// The full run of docs/benchmarks.md.
    pub const FULL: Scale = Scale {
        seconds: 10.0,
        events: 1_000_000,
        relay_events: 100_000,
        rates: &[100, 500],
    };
    /// A run that proves the harness (CI).
    pub const QUICK: Scale = Scale {
        seconds: 1.0,
        events: 5_000,
        relay_events: 1_000,
        rates: &[50],
    };
}

pub(crate) fn percentile(samples: &mut [Duration], p: f64) -> Duration {
    if samples.is_empty() {
        return Duration::ZERO;
    }
    samples.sort();
    let index = ((samples.len() as f64 - 1.0) * p).round() as usize;
    samples[index]
}

pub(crate) fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

fn person(n: u64) -> ParticipantInput {
    // A valid resident ID number with its check digit, different per n.
    let base = format!("11010519800101{:03}", n % 1000);
    let weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = base
        .bytes()
        .zip(weights)
        .map(|(b, w)| u32::from(b - b'0') * w)
        .sum();
    let check = b"10X98765432"[(sum % 11) as usize] as char;
    ParticipantInput {
        name: "压测客户".into(),
        id_type: IdType::IdCard,
        id_number: format!("{base}{check}"),
        phone: "13800138000".into(),
        roles: vec![ParticipantRole::Borrower],
        marital_status: None,
        relation_to_borrower: None,
    }
}

fn create_task(id: &str, n: u64) -> InterviewTaskCommand {
    InterviewTaskCommand::Create(CreateInterviewTask {
        lineage: None,
        task_id: id.to_string(),
        contract_no: format!("HT-BENCH-{id}"),
        kind: TaskKind::YongxuVideoInterview,
        product_code: "YXD".into(),
        channel_code: "YYZX".into(),
        manager_id: "M0001".into(),
        participants: vec![person(n)],
        property_location: None,
        loan_info: None,
    })
}

fn context() -> CommandContext {
    CommandContext::for_request(Actor::system("bench"), uuid::Uuid::now_v7().to_string())
}

/// A fresh Postgres database for one run; dropped by [`drop_database`].
async fn create_database(admin_url: &str, name: &str) -> anyhow::Result<String> {
    let mut admin = PgConnection::connect(admin_url)
        .await
        .with_context(|| format!("cannot reach Postgres at {admin_url}"))?;
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&mut admin)
        .await?;
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await?;
    let base = admin_url.rsplit_once('/').map_or(admin_url, |(b, _)| b);
    Ok(format!("{base}/{name}"))
}

async fn drop_database(admin_url: &str, name: &str) {
    if let Ok(mut admin) = PgConnection::connect(admin_url).await {
        let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .execute(&mut admin)
            .await;
    }
}

/// Runs `clients` loops of `op` for `seconds`; returns operations per second.
async fn throughput<F, Fut>(clients: usize, seconds: f64, op: F) -> f64
where
    F: Fn(u64) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = bool> + Send,
{
    let op = Arc::new(op);
    let done = Arc::new(AtomicU64::new(0));
    let counter = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (op, done, counter) = (op.clone(), done.clone(), counter.clone());
        tasks.push(tokio::spawn(async move {
            while Instant::now() < deadline {
                let n = counter.fetch_add(1, Ordering::Relaxed);
                if op(n).await {
                    done.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    for task in tasks {
        let _ = task.await;
    }
    done.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64()
}

/// One-row insert transactions straight into the events table: what the
/// database commits without facesign.
async fn baseline(url: &str, clients: usize, seconds: f64) -> anyhow::Result<f64> {
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(clients as u32)
        .connect(url)
        .await?;
    let run = uuid::Uuid::now_v7();
    let shared = pool.clone();
    let per_second = throughput(clients, seconds, move |n| {
        let pool = shared.clone();
        async move {
            let id = uuid::Uuid::now_v7();
            sqlx::query(
                "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
                 VALUES ('bench-baseline', $1, 1, 'Baseline', '1.0', '{}'::jsonb,
                         jsonb_build_object('event_id', $2::text, 'actor_id', 'bench', 'actor_role', 'SYSTEM',
                             'correlation_id', $2::text, 'causation_id', $2::text, 'request_id', $2::text,
                             'recorded_at', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')))",
            )
            .bind(format!("{run}-{n}"))
            .bind(id.to_string())
            .execute(&pool)
            .await
            .is_ok()
        }
    })
    .await;
    pool.close().await;
    Ok(per_second)
}

/// The baseline at each of [`CLIENTS`], reported in `rows`.
async fn baselines(url: &str, scale: Scale, rows: &mut Vec<Row>) -> anyhow::Result<Vec<f64>> {
    let mut per_second = Vec::new();
    for clients in CLIENTS {
        let tps = baseline(url, clients, scale.seconds).await?;
        rows.push(row(
            format!("Postgres baseline: one-row insert transactions, {clients} connections"),
            format!("{tps:.0}/s"),
            "—",
            None,
        ));
        per_second.push(tps);
    }
    Ok(per_second)
}

/// Commands on distinct aggregates through the bus.
async fn commands(engine: &Engine, clients: usize, seconds: f64) -> f64 {
    let bus = engine.bus.clone();
    let run = uuid::Uuid::now_v7();
    throughput(clients, seconds, move |n| {
        let bus = bus.clone();
        async move {
            let id = format!("{run}-{n}");
            bus.execute::<InterviewTask>(&id, create_task(&id, n), &context())
                .await
                .is_ok()
        }
    })
    .await
}

/// `clients` writers on one aggregate; returns (commands per second, acknowledged, stored).
async fn one_aggregate(
    engine: &Engine,
    clients: usize,
    seconds: f64,
) -> anyhow::Result<(f64, u64, i64)> {
    let code = format!("BENCH{}", uuid::Uuid::now_v7().simple());
    let code = &code[..20];
    let settings = |name: String| ChannelSettings {
        name,
        ..ChannelSettings::default()
    };
    engine
        .bus
        .execute::<Channel>(
            code,
            ChannelCommand::Create(settings("压测渠道".into())),
            &context(),
        )
        .await?;
    let bus = engine.bus.clone();
    let acknowledged = Arc::new(AtomicU64::new(0));
    let counted = acknowledged.clone();
    let key = code.to_string();
    let per_second = throughput(clients, seconds, move |n| {
        let (bus, key, counted) = (bus.clone(), key.clone(), counted.clone());
        async move {
            let ok = bus
                .execute::<Channel>(
                    &key,
                    ChannelCommand::Edit(settings(format!("渠道{n}"))),
                    &context(),
                )
                .await
                .is_ok();
            if ok {
                counted.fetch_add(1, Ordering::Relaxed);
            }
            ok
        }
    })
    .await;
    let (_, sequence) = engine.bus.load::<Channel>(code).await?;
    Ok((
        per_second,
        acknowledged.load(Ordering::Relaxed),
        sequence - 1,
    ))
}

/// Writes `count` synthetic task-created events (copies of one real event with
/// fresh ids) straight into the log.
async fn generate_events(url: &str, engine: &Engine, count: i64) -> anyhow::Result<()> {
    let id = uuid::Uuid::now_v7().to_string();
    engine
        .bus
        .execute::<InterviewTask>(&id, create_task(&id, 0), &context())
        .await?;
    let mut conn = PgConnection::connect(url).await?;
    let chunk = 100_000;
    let mut from = 1;
    while from <= count {
        let to = (from + chunk - 1).min(count);
        sqlx::query(
            "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
             SELECT e.aggregate_type, g.id, 1, e.event_type, e.event_version,
                    jsonb_set(jsonb_set(jsonb_set(jsonb_set(e.payload,
                        '{InterviewTaskCreated,task_id}', to_jsonb(g.id)),
                        '{InterviewTaskCreated,contract_no}', to_jsonb('HT-GEN-' || g.n)),
                        '{InterviewTaskCreated,manager_id}', to_jsonb('M' || lpad((g.n % 1000)::text, 4, '0'))),
                        '{InterviewTaskCreated,channel_code}', to_jsonb((ARRAY['YYZX', 'WX', 'APP', 'H5'])[1 + g.n % 4])),
                    jsonb_set(e.metadata, '{event_id}', to_jsonb(gen_random_uuid()::text))
               FROM (SELECT n, 'gen-' || n AS id FROM generate_series($1::bigint, $2::bigint) n) g,
                    (SELECT * FROM events WHERE aggregate_id = $3) e",
        )
        .bind(from)
        .bind(to)
        .bind(&id)
        .execute(&mut conn)
        .await?;
        from = to + 1;
    }
    Ok(())
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .next()
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or("?".to_string(), |kb| {
            format!("{:.1} GiB", kb / 1024.0 / 1024.0)
        });
    format!(
        "{} × {cpu}, {memory} RAM, {} {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        std::env::consts::OS,
        std::env::consts::ARCH
    )
}

/// A row of the report: what, the figure, the target, and whether it is met.
pub(crate) struct Row {
    what: String,
    figure: String,
    target: String,
    met: Option<bool>,
    /// A bound the suite holds the product to: a missed one fails the run.
    guard: bool,
}

pub(crate) fn row(
    what: impl Into<String>,
    figure: impl Into<String>,
    target: impl Into<String>,
    met: Option<bool>,
) -> Row {
    Row {
        what: what.into(),
        figure: figure.into(),
        target: target.into(),
        met,
        guard: false,
    }
}

impl Row {
    /// This row as a bound the run fails on when it is missed.
    pub(crate) fn guarding(self) -> Row {
        Row {
            guard: true,
            ..self
        }
    }
}

/// The report, and the guarded bounds the run missed (it fails on any).
pub struct Report {
    /// BENCHMARKS.md.
    pub text: String,
    /// What each missed guard measured.
    pub missed_guards: Vec<String>,
}

/// Runs every benchmark and returns the report (Markdown).
pub async fn run(
    admin_url: &str,
    scale: Scale,
    quick: bool,
    only: Option<&str>,
) -> anyhow::Result<Report> {
    let only_mutations = only == Some("mutations");
    let rows = if only_mutations {
        run_mutations(admin_url, scale).await?
    } else if only == Some("hostile") {
        let name = format!("facesign_bench_{}_hostile", std::process::id());
        let url = create_database(admin_url, &name).await?;
        let result = crate::hostile::cpu_budget(&url, scale).await;
        drop_database(admin_url, &name).await;
        result?
    } else {
        // Each part runs on a database of its own, so no part pays for the rows
        // of another (the server would otherwise project the baseline's events too).
        let names: Vec<String> = ["writes", "lag", "http", "log"]
            .iter()
            .map(|part| format!("facesign_bench_{}_{part}", std::process::id()))
            .collect();
        let mut urls = Vec::new();
        for name in &names {
            urls.push(create_database(admin_url, name).await?);
        }
        let result = run_on(admin_url, &urls, scale).await;
        for name in &names {
            drop_database(admin_url, name).await;
        }
        result?
    };
    let mut out = String::new();
    writeln!(out, "# Benchmarks\n")?;
    writeln!(
        out,
        "Measured by `facesign-bench{}{}` on {} — {}, {} build. Raw figures and the database's own baseline come from the same run; targets are those of the benchmarks issue. See docs/benchmarks.md for how to run and read it.\n",
        if quick { " --quick" } else { "" },
        only.map(|part| format!(" --only {part}")).unwrap_or_default(),
        chrono::Utc::now().format("%Y-%m-%d %H:%M UTC"),
        machine(),
        if cfg!(debug_assertions) { "debug" } else { "release" },
    )?;
    if quick {
        writeln!(out, "**Quick run**: every run is shrunk to prove the harness; the figures are not the product's.\n")?;
    }
    writeln!(
        out,
        "| measurement | figure | target | met |\n|---|---|---|---|"
    )?;
    let missed_guards = rows
        .iter()
        .filter(|r| r.guard && r.met == Some(false))
        .map(|r| format!("{}: {} (target {})", r.what, r.figure, r.target))
        .collect();
    for r in rows {
        let met = match r.met {
            Some(true) => "yes",
            Some(false) => "**no**",
            None => "—",
        };
        writeln!(
            out,
            "| {} | {} | {} | {} |",
            r.what, r.figure, r.target, met
        )?;
    }
    Ok(Report {
        text: out,
        missed_guards,
    })
}

async fn run_on(admin_url: &str, urls: &[String], scale: Scale) -> anyhow::Result<Vec<Row>> {
    let mut rows = Vec::new();
    let url = urls[0].as_str();
    // Postgres allows 100 connections by default: the bench engine, the
    // server's two pools and the workers' lock connections must fit.
    let mut settings = Settings::for_database(url);
    settings.max_connections = 16;
    let engine = Engine::open(&settings).await?;
    tracing::info!("baseline");
    let baselines = baselines(url, scale, &mut rows).await?;
    tracing::info!("commands");
    let mut single = 0.0;
    for (&clients, &raw) in CLIENTS.iter().zip(&baselines) {
        let cps = commands(&engine, clients, scale.seconds).await;
        if clients == 1 {
            single = cps;
        }
        let ratio = cps / raw;
        let target = if clients == 32 {
            "≥ 0.5× baseline"
        } else {
            "—"
        };
        let met = (clients == 32).then_some(ratio >= 0.5);
        rows.push(row(
            format!("Postgres commands, {clients} clients, distinct aggregates"),
            format!("{cps:.0}/s ({ratio:.2}× baseline)"),
            target,
            met,
        ));
    }
    let sqlite_dir = std::env::temp_dir().join(format!("facesign-bench-{}", std::process::id()));
    std::fs::create_dir_all(&sqlite_dir)?;
    let sqlite = Engine::open(&Settings::for_database(format!(
        "sqlite://{}/bench.db",
        sqlite_dir.display()
    )))
    .await?;
    for clients in CLIENTS {
        let cps = commands(&sqlite, clients, scale.seconds).await;
        rows.push(row(
            format!("SQLite commands, {clients} clients, distinct aggregates"),
            format!("{cps:.0}/s"),
            "—",
            None,
        ));
    }
    sqlite.database.close().await;
    let _ = std::fs::remove_dir_all(&sqlite_dir);
    tracing::info!("one aggregate");
    let (contended, acknowledged, stored) = one_aggregate(&engine, 16, scale.seconds).await?;
    rows.push(row(
        "Postgres, 16 clients on one aggregate",
        format!(
            "{contended:.0}/s ({:.2}× one client); {acknowledged} acknowledged, {stored} stored",
            contended / single.max(1.0)
        ),
        "no lost event; ≥ 0.3× single client",
        Some(acknowledged as i64 == stored && contended >= 0.3 * single),
    ));

    engine.database.close().await;
    tracing::info!("projection lag");
    let lag_engine = Engine::open(&Settings::for_database(urls[1].as_str())).await?;
    rows.extend(projection_lag(&lag_engine, scale).await?);
    lag_engine.database.close().await;
    tracing::info!("graphql latency");
    rows.extend(graphql_latency(admin_url, &urls[2], scale, &baselines).await?);
    tracing::info!("hostile requests");
    rows.extend(crate::hostile::cpu_budget(&urls[2], scale).await?);
    let url = urls[3].as_str();
    let mut settings = Settings::for_database(url);
    settings.max_connections = 16;
    let engine = Engine::open(&settings).await?;
    tracing::info!("generating {} events", scale.events);
    generate_events(url, &engine, scale.events).await?;
    let started = Instant::now();
    let applied = engine.replay(projections::task_board::NAME).await?;
    let per_second = applied as f64 / started.elapsed().as_secs_f64();
    rows.push(row(
        format!("Rebuild of the task board over {applied} events"),
        format!("{per_second:.0} events/s"),
        "≥ 50,000 events/s",
        Some(per_second >= 50_000.0),
    ));
    rows.extend(search_board(url, &engine, scale).await?);
    tracing::info!("relay");
    rows.extend(relay(&engine, scale).await?);
    let rss = server::peak_rss_mb("self");
    rows.push(row(
        format!(
            "Peak RSS of the bench process (engine and the rebuild over {} events)",
            scale.events
        ),
        rss.map_or("unknown".into(), |mb| format!("{mb:.0} MB")),
        "< 200 MB",
        rss.map(|mb| mb < 200.0),
    ));
    engine.database.close().await;
    Ok(rows)
}

/// The indexes a plan reads (`EXPLAIN` text), or how it reads without one.
fn indexes_of(plan: &str) -> String {
    let mut indexes: Vec<&str> = Vec::new();
    for line in plan.lines() {
        // "Index Scan using i", "Index Scan Backward using i",
        // "Index Only Scan using i", "Bitmap Index Scan on i".
        let marker = if line.contains("Bitmap Index Scan on ") {
            Some("Bitmap Index Scan on ")
        } else if line.contains("Index Scan") || line.contains("Index Only Scan") {
            Some(" using ")
        } else {
            None
        };
        let name = marker
            .and_then(|marker| line.split_once(marker))
            .and_then(|(_, rest)| rest.split_whitespace().next());
        if let Some(name) = name.filter(|n| !indexes.contains(n)) {
            indexes.push(name);
        }
    }
    if indexes.is_empty() {
        "no index: sequential scan".to_string()
    } else {
        indexes.join(" + ")
    }
}

/// Task-board search over the generated tasks: p99 of each filter the board
/// and the console offer, with the index the database's plan uses.
async fn search_board(url: &str, engine: &Engine, scale: Scale) -> anyhow::Result<Vec<Row>> {
    use domain::interview_task::TaskStatus;
    use sqlx::Connection as _;
    let text = |s: &str| Some(s.to_string());
    let filters = [
        (
            "status",
            TaskFilter {
                status: Some(TaskStatus::Pending),
                ..TaskFilter::default()
            },
        ),
        (
            "contract",
            TaskFilter {
                contract_no: text("HT-GEN-4242"),
                ..TaskFilter::default()
            },
        ),
        (
            "manager",
            TaskFilter {
                manager_id: text("M0042"),
                ..TaskFilter::default()
            },
        ),
        (
            "product",
            TaskFilter {
                product_code: text("YXD"),
                ..TaskFilter::default()
            },
        ),
        (
            "channel",
            TaskFilter {
                channel_code: text("WX"),
                ..TaskFilter::default()
            },
        ),
        (
            "product and channel",
            TaskFilter {
                product_code: text("YXD"),
                channel_code: text("APP"),
                ..TaskFilter::default()
            },
        ),
        (
            "seat",
            TaskFilter {
                seat_no: text("S0001"),
                ..TaskFilter::default()
            },
        ),
        (
            "a seat's reach",
            TaskFilter {
                seat_reach: text("S0001"),
                ..TaskFilter::default()
            },
        ),
        (
            "appointment day",
            TaskFilter {
                from: text("2026-12-01T00:00:00+08:00"),
                to: text("2026-12-02T00:00:00+08:00"),
                ..TaskFilter::default()
            },
        ),
    ];
    let pool = engine.database.read_models();
    let mut conn = sqlx::AnyConnection::connect(url).await?;
    let mut rows = Vec::new();
    for (name, filter) in filters {
        let plan = TaskBoard::plan(&mut conn, &filter).await?;
        let index = indexes_of(&plan);
        let mut samples = Vec::new();
        for _ in 0..100 {
            let started = Instant::now();
            TaskBoard::page(pool, &filter, None, 20).await?;
            samples.push(started.elapsed());
        }
        let p99 = percentile(&mut samples, 0.99);
        rows.push(row(
            format!(
                "Task-board search p99 over {} tasks, by {name}",
                scale.events
            ),
            format!("{} ({index})", ms(p99)),
            "< 50 ms",
            Some(p99 < Duration::from_millis(50)),
        ));
    }
    conn.close().await?;
    Ok(rows)
}

/// Creates `total` tasks at `rate` per second and returns, for each, the time
/// from its commit until `handle` (a projection or the relay) reflected it.
async fn lag_under_load(
    engine: &Engine,
    handle: &store::WorkerHandle,
    rate: f64,
    total: u64,
) -> anyhow::Result<Vec<Duration>> {
    let mut samples = Vec::new();
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / rate));
    for n in 0..total {
        tick.tick().await;
        let id = uuid::Uuid::now_v7().to_string();
        let receipt = engine
            .bus
            .execute::<InterviewTask>(&id, create_task(&id, n), &context())
            .await?;
        let committed = Instant::now();
        if let Some(position) = receipt.position {
            if handle.wait_for(position, Duration::from_secs(10)).await {
                samples.push(committed.elapsed());
            }
        }
    }
    Ok(samples)
}

/// Commit-to-projection lag of the task board under a sustained load.
async fn projection_lag(engine: &Engine, scale: Scale) -> anyhow::Result<Vec<Row>> {
    let runner = Arc::new(engine.projection_runner(projections::TaskBoard));
    runner.catch_up().await?;
    let handle = runner.handle();
    let (stop, stopped) = watch::channel(false);
    let commits = engine.bus.subscribe_commits();
    let running = {
        let runner = runner.clone();
        tokio::spawn(async move {
            runner
                .run(commits, Duration::from_millis(500), stopped)
                .await
        })
    };
    let rate = 200.0;
    let mut samples = lag_under_load(engine, &handle, rate, (rate * scale.seconds) as u64).await?;
    let _ = stop.send(true);
    let _ = running.await;
    let p99 = percentile(&mut samples, 0.99);
    Ok(vec![row(
        format!("Projection lag p99 at {rate:.0} commands/s (commit to task board)"),
        format!("{} (p50 {})", ms(p99), ms(percentile(&mut samples, 0.5))),
        "< 200 ms",
        Some(p99 < Duration::from_millis(200)),
    )])
}

/// GraphQL mutation latency over HTTP at fixed rates and at saturation,
/// against `facesign serve` in a process of its own on database `url`. Each
/// closed-loop run has a server of its own, so the transactions the database
/// counted for it (from start to stop) are that run's.
async fn graphql_latency(
    admin_url: &str,
    url: &str,
    scale: Scale,
    baselines: &[f64],
) -> anyhow::Result<Vec<Row>> {
    let name = url.rsplit('/').next().unwrap_or_default().to_string();
    let keys = api::auth::JwtKeys::new(&secrecy::SecretString::from(SECRET.to_string()));
    let token = keys.mint("M0001", domain::role::Role::AccountManager, 3600);
    let client = reqwest::Client::new();
    let send = move |base: String| {
        let (client, token) = (client.clone(), token.clone());
        move |n: u64| {
            let (client, base, token) = (client.clone(), base.clone(), token.clone());
            async move {
                let input = serde_json::json!({
                    "contractNo": format!("HT-HTTP-{n}"), "kind": "YONGXU_VIDEO_INTERVIEW",
                    "productCode": "YXD", "channelCode": "YYZX", "managerId": "M0001",
                    "participants": [{ "name": "压测客户", "idNumber": person(n).id_number, "phone": "13800138000", "roles": ["BORROWER"] }]
                });
                let started = Instant::now();
                let ok = client
                    .post(format!("{base}/graphql"))
                    .bearer_auth(&token)
                    .json(&serde_json::json!({ "query": "mutation($i: CreateInterviewTaskInput!) { createInterviewTask(input: $i) { taskId projected } }", "variables": { "i": input } }))
                    .send()
                    .await
                    .map(|r| r.status().is_success())
                    .unwrap_or(false);
                (ok, started.elapsed())
            }
        }
    };
    let mut rows = Vec::new();
    let mut peak_rss: Option<f64> = None;
    let mut note_rss = |used: &server::Used| {
        if let Some(mb) = used.peak_rss_mb {
            peak_rss = Some(peak_rss.map_or(mb, |p: f64| p.max(mb)));
        }
    };
    let counter = Arc::new(AtomicU64::new(0));
    if !scale.rates.is_empty() {
        let server = ServerProcess::start(url).await?;
        let send = send(server.base.clone());
        for &rate in scale.rates {
            let total = (f64::from(rate) * scale.seconds) as u64;
            let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / f64::from(rate)));
            let mut pending = Vec::new();
            for _ in 0..total {
                tick.tick().await;
                let n = counter.fetch_add(1, Ordering::Relaxed);
                pending.push(tokio::spawn(send(n)));
            }
            let mut samples = Vec::new();
            let mut failed = 0;
            for p in pending {
                let (ok, took) = p.await?;
                if ok {
                    samples.push(took)
                } else {
                    failed += 1
                }
            }
            let p99 = percentile(&mut samples, 0.99);
            let target = if rate == 500 { "p99 < 25 ms" } else { "—" };
            rows.push(row(
                format!("GraphQL createInterviewTask at {rate} req/s"),
                format!(
                    "p50 {}, p99 {}, {failed} failed",
                    ms(percentile(&mut samples, 0.5)),
                    ms(p99)
                ),
                target,
                (rate == 500).then_some(p99 < Duration::from_millis(25) && failed == 0),
            ));
        }
        note_rss(&server.stop().await?);
    }
    // Closed-loop clients, side by side with what the database commits alone
    // at the same concurrency (measured in this run).
    for (&clients, &raw) in CLIENTS.iter().zip(baselines) {
        let before = server::transactions(admin_url, &name).await?;
        let server = ServerProcess::start(url).await?;
        let samples = Arc::new(std::sync::Mutex::new(Vec::new()));
        let kept = samples.clone();
        let send_closed = send(server.base.clone());
        let counter_closed = counter.clone();
        let mutations = Arc::new(AtomicU64::new(0));
        let counted = mutations.clone();
        let per_second = throughput(clients, scale.seconds, move |_| {
            let (send, kept, counter, counted) = (
                send_closed.clone(),
                kept.clone(),
                counter_closed.clone(),
                counted.clone(),
            );
            async move {
                let (ok, took) = send(counter.fetch_add(1, Ordering::Relaxed)).await;
                kept.lock().expect("samples").push(took);
                counted.fetch_add(u64::from(ok), Ordering::Relaxed);
                ok
            }
        })
        .await;
        note_rss(&server.stop().await?);
        let transactions = server::transactions(admin_url, &name).await? - before;
        let per_mutation = transactions as f64 / mutations.load(Ordering::Relaxed).max(1) as f64;
        let mut all = samples.lock().expect("samples").clone();
        let ratio = per_second / raw.max(1.0);
        let (target, met) = if clients == 32 {
            (
                "≥ 0.1× raw; ≤ 5 transactions per mutation",
                Some(ratio >= 0.1 && per_mutation <= 5.0),
            )
        } else {
            ("—", None)
        };
        rows.push(row(
            format!("GraphQL createInterviewTask, {clients} clients"),
            format!(
                "{per_second:.0} mutations/s ({ratio:.3}× the {raw:.0} raw commits/s), p50 {}, p99 {}; {per_mutation:.1} Postgres transactions per mutation",
                ms(percentile(&mut all, 0.5)),
                ms(percentile(&mut all, 0.99))
            ),
            target,
            met,
        ));
    }
    rows.push(row(
        "Peak RSS of the server process through the HTTP runs",
        peak_rss.map_or("unknown".into(), |mb| format!("{mb:.0} MB")),
        "< 200 MB",
        peak_rss.map(|mb| mb < 200.0),
    ));
    Ok(rows)
}

/// The client counts of the throughput runs.
const CLIENTS: [usize; 3] = [1, 8, 32];

/// Only the write path over HTTP against the raw baseline (`--only mutations`):
/// minutes instead of the full run's hour.
async fn run_mutations(admin_url: &str, scale: Scale) -> anyhow::Result<Vec<Row>> {
    let names: Vec<String> = ["raw", "http"]
        .iter()
        .map(|part| format!("facesign_bench_{}_{part}", std::process::id()))
        .collect();
    let mut urls = Vec::new();
    for name in &names {
        urls.push(create_database(admin_url, name).await?);
    }
    let result = async {
        // The baseline inserts into a migrated events table.
        let engine = Engine::open(&Settings::for_database(urls[0].as_str())).await?;
        let mut rows = Vec::new();
        let baselines = baselines(&urls[0], scale, &mut rows).await?;
        engine.database.close().await;
        let scale = Scale {
            rates: &[],
            ..scale
        };
        rows.extend(graphql_latency(admin_url, &urls[1], scale, &baselines).await?);
        anyhow::Ok(rows)
    }
    .await;
    for name in &names {
        drop_database(admin_url, name).await;
    }
    result
}

/// Relay throughput over the log and end-to-end lag, against tansu.
async fn relay(engine: &Engine, scale: Scale) -> anyhow::Result<Vec<Row>> {
    let Some(tansu) = workers::kafka::find_tansu() else {
        return Ok(vec![row(
            "Kafka relay",
            "not measured: tansu is not installed",
            "≥ 20,000 events/s, p99 < 1 s",
            Some(false),
        )]);
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let address = format!("127.0.0.1:{port}");
    let listener = format!("tcp://{address}");
    let mut broker = std::process::Command::new(tansu)
        .args([
            "broker",
            "--listener-url",
            &listener,
            "--advertised-listener-url",
            &listener,
            "--storage-engine",
            "memory://tansu/",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()?;
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(&address).await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let result = relay_on(engine, scale, &address).await;
    let _ = broker.kill();
    let _ = broker.wait();
    result
}

async fn relay_on(engine: &Engine, scale: Scale, brokers: &str) -> anyhow::Result<Vec<Row>> {
    let mut kafka = workers::kafka::KafkaSettings::for_brokers(brokers);
    kafka.partitions = 3;
    kafka.relay_batch_size = 5_000;
    let relay = workers::kafka::relay::Relay::new(
        &kafka,
        engine.database.read_models().clone(),
        engine.log.clone(),
        engine.metrics.clone(),
    )?;
    // The log holds everything the earlier runs wrote; publish its last part.
    let pool = engine.database.read_models();
    store::worker::load_checkpoint(pool, workers::kafka::relay::NAME).await?;
    let from: Option<(String, i64)> = sqlx::query_as(
        "SELECT CAST(tx_id AS TEXT), global_position FROM events
          ORDER BY events.tx_id DESC, events.global_position DESC OFFSET $1 LIMIT 1",
    )
    .bind(scale.relay_events)
    .fetch_optional(pool)
    .await?;
    if let Some((tx_id, position)) = from {
        sqlx::query(
            "UPDATE worker_checkpoints SET tx_id = $1, global_position = $2 WHERE name = $3",
        )
        .bind(tx_id.parse::<i64>()?)
        .bind(position)
        .bind(workers::kafka::relay::NAME)
        .execute(pool)
        .await?;
    }
    let started = Instant::now();
    let published = relay.catch_up().await?;
    let per_second = published as f64 / started.elapsed().as_secs_f64();
    let mut rows = vec![row(
        format!("Kafka relay throughput against tansu ({published} events)"),
        format!("{per_second:.0} events/s"),
        "≥ 20,000 events/s",
        Some(per_second >= 20_000.0),
    )];
    // End-to-end: commit → on the topic, under 100 commands/s.
    let relay = Arc::new(relay);
    let (stop, stopped) = watch::channel(false);
    let running = {
        let (relay, commits) = (relay.clone(), engine.bus.subscribe_commits());
        tokio::spawn(async move {
            relay
                .run(commits, Duration::from_millis(100), stopped)
                .await
        })
    };
    let handle = relay.handle();
    let total = (100.0 * scale.seconds).max(20.0) as u64;
    let mut samples = lag_under_load(engine, &handle, 100.0, total).await?;
    let _ = stop.send(true);
    let _ = running.await;
    let p99 = percentile(&mut samples, 0.99);
    rows.push(row(
        "Kafka end-to-end lag p99 (commit to broker acknowledgement) at 100 commands/s",
        ms(p99),
        "p99 < 1 s",
        Some(p99 < Duration::from_secs(1) && !samples.is_empty()),
    ));
    Ok(rows)
}
