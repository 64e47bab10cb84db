//! `facesign-bench`: the benchmark harness, a binary of its own so that the
//! server binary carries no load generator. It measures, in one run on one
//! machine, the raw Postgres baseline and facesign on top of it, and writes
//! the report (BENCHMARKS.md; docs/benchmarks.md says how to read it).

mod bench;
mod hostile;
mod server;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::EnvFilter;

#[derive(Parser)]
#[command(
    name = "facesign-bench",
    version,
    about = "Measure throughput, latency, lag, rebuild speed and memory against the raw database in one run"
)]
struct Cli {
    /// Shrink every run (CI proves the harness; the figures mean little).
    #[arg(long)]
    quick: bool,
    /// A Postgres database to create the bench databases from.
    #[arg(
        long,
        env = "FACESIGN_BENCH_ADMIN_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/postgres"
    )]
    admin_url: String,
    /// Run one part only: `mutations` (GraphQL createInterviewTask at 1, 8
    /// and 32 clients against the raw-commit baseline of the same run), or
    /// `hostile` (a caller's reads while four anonymous clients send the
    /// costliest admitted document).
    #[arg(long, value_parser = ["mutations", "hostile"])]
    only: Option<String>,
    /// Where the report goes.
    #[arg(long, default_value = "BENCHMARKS.md")]
    out: PathBuf,
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let scale = if cli.quick {
        bench::Scale::QUICK
    } else {
        bench::Scale::FULL
    };
    match bench::run(&cli.admin_url, scale, cli.quick, cli.only.as_deref()).await {
        Ok(report) => match std::fs::write(&cli.out, &report.text) {
            Ok(()) => {
                eprintln!("{}\nreport written to {}", report.text, cli.out.display());
                if report.missed_guards.is_empty() {
                    ExitCode::SUCCESS
                } else {
                    for missed in &report.missed_guards {
                        eprintln!("error: a guarded bound was missed: {missed}");
                    }
                    ExitCode::FAILURE
                }
            }
            Err(e) => {
                eprintln!("error: cannot write {}: {e}", cli.out.display());
                ExitCode::FAILURE
            }
        },
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
