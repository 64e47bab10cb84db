//! The CPU budget of an anonymous request (issue 31): four clients send the
//! most expensive document the caps still let through — as many unknown
//! field names of the longest accepted length as a document may hold — in a
//! loop, each from an address of its own (so each has its own rate
//! allowance), with the server's default rate limit, while an authenticated
//! caller reads the task board. The figure is that caller's p99, and the CPU
//! the server spent per second; the bound is the target row.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::bench::{ms, percentile, row, Row, Scale};
use crate::server::{ServerProcess, SECRET};

/// The bound the victim's p99 must stay under while the attack runs.
pub const VICTIM_P99_BOUND: Duration = Duration::from_millis(100);

/// The costliest request the default caps admit: a document of as many
/// unknown fields with names of 128 characters (the longest accepted) as fit
/// its 64 KiB, each distinct, and an unused variable padding the body to
/// just under the 1 MiB limit — the most a request may make the server
/// read, decode and scan. A caller with a token has the document parsed and
/// validated too.
fn worst_document() -> String {
    let limits = api::query_limits::QueryLimits::default();
    let mut document = String::from("mutation {");
    for n in 0..limits.max_selections - 1 {
        let prefix = format!(" f{n}_");
        let field = format!(
            "{prefix}{}",
            "x".repeat(limits.max_name_length + 1 - prefix.len())
        );
        if document.len() + field.len() + 2 > limits.max_document_bytes {
            break;
        }
        document.push_str(&field);
    }
    document.push_str(" }");
    let body_limit = api::ApiConfig::default().body_limit_bytes;
    let padding = body_limit.saturating_sub(document.len() + 128);
    serde_json::json!({ "query": document, "variables": { "padding": "p".repeat(padding) } })
        .to_string()
}

/// Who sends the costly documents.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Attackers {
    /// Without a token, each from its own address.
    Anonymous,
    /// Each with a valid token of its own (its own rate allowance): what any
    /// token holder could do, and what the audit trail would name.
    SignedIn,
}

/// Runs both attacks for the scale's seconds (at least three each) and
/// reports; the anonymous one is the guarded bound.
pub async fn cpu_budget(url: &str, scale: Scale) -> anyhow::Result<Vec<Row>> {
    let mut rows = attack(url, scale, Attackers::Anonymous).await?;
    rows.extend(attack(url, scale, Attackers::SignedIn).await?);
    Ok(rows)
}

async fn attack(url: &str, scale: Scale, attackers: Attackers) -> anyhow::Result<Vec<Row>> {
    // The server's own defaults: 50 requests/s per client, burst 100.
    let server = ServerProcess::start_with(url, &[]).await?;
    let seconds = scale.seconds.max(3.0);
    let body = Arc::new(worst_document());
    let stop = Arc::new(AtomicBool::new(false));
    let answered = Arc::new(AtomicU64::new(0));
    let limited = Arc::new(AtomicU64::new(0));
    let keys = api::auth::JwtKeys::new(&secrecy::SecretString::from(SECRET.to_string()));
    let mut tasks = Vec::new();
    for n in 1..=4u8 {
        let bearer = (attackers == Attackers::SignedIn).then(|| {
            keys.mint(
                &format!("ATTACKER{n}"),
                domain::role::Role::Supervisor,
                3600,
            )
        });
        // Every request bounded, so the run ends however the server answers.
        let client = reqwest::Client::builder()
            .local_address(std::net::IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 2, n)))
            .timeout(Duration::from_secs(15))
            .build()?;
        let (base, body, stop) = (server.base.clone(), body.clone(), stop.clone());
        let (answered, limited) = (answered.clone(), limited.clone());
        tasks.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let mut request = client
                    .post(format!("{base}/graphql"))
                    .header("content-type", "application/json")
                    .body(body.as_str().to_owned());
                if let Some(bearer) = &bearer {
                    request = request.bearer_auth(bearer);
                }
                let sent = request.send().await;
                match sent.map(|r| r.status().as_u16()) {
                    Ok(429) => {
                        limited.fetch_add(1, Ordering::Relaxed);
                    }
                    Ok(_) => {
                        answered.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
                }
            }
        }));
    }
    let token = keys.mint("SV1", domain::role::Role::Supervisor, 3600);
    let victim = reqwest::Client::builder()
        .timeout(Duration::from_secs(15))
        .build()?;
    let cpu_before = server.cpu_seconds();
    let started = Instant::now();
    let mut samples = Vec::new();
    while started.elapsed().as_secs_f64() < seconds {
        let sent = Instant::now();
        let ok = victim
            .post(format!("{}/graphql", server.base))
            .bearer_auth(&token)
            .json(&serde_json::json!({ "query": "{ tasks(first: 1) { edges { cursor } } }" }))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success());
        anyhow::ensure!(ok, "the victim's read failed during the attack");
        samples.push(sent.elapsed());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let cpu = server
        .cpu_seconds()
        .zip(cpu_before)
        .map(|(after, before)| (after - before) / elapsed);
    stop.store(true, Ordering::Relaxed);
    for task in tasks {
        let _ = task.await;
    }
    server.stop().await?;
    let (p50, p99) = (
        percentile(&mut samples, 0.50),
        percentile(&mut samples, 0.99),
    );
    let attacks = answered.load(Ordering::Relaxed);
    let refused = limited.load(Ordering::Relaxed);
    let figure = format!(
        "p50 {}, p99 {} over {} reads; {attacks} attacks answered, {refused} refused 429; server CPU {}",
        ms(p50),
        ms(p99),
        samples.len(),
        cpu.map_or("unknown".into(), |c| format!("{c:.2} s/s"))
    );
    Ok(vec![match attackers {
        Attackers::Anonymous => row(
            "A caller's read while four anonymous clients, each from its own address, send the costliest request the caps admit (a 64 KiB document of unknown 128-character names, a 1 MiB body) in a loop",
            figure,
            format!("p99 < {}", ms(VICTIM_P99_BOUND)),
            Some(p99 < VICTIM_P99_BOUND),
        )
        .guarding(),
        Attackers::SignedIn => row(
            "The same with four signed-in clients (each its own token and rate allowance), whose documents are parsed and validated",
            figure,
            "—",
            None,
        ),
    }])
}
