//! `facesign-bench`: the benchmark harness, a binary of its own so that the
//! server binary carries no load generator. It measures, in one run on one
//! machine, the raw Postgres baseline and facesign on top of it, and writes
//! the report (BENCHMARKS.md; docs/benchmarks.md says how to read it).

mod bench;
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
    /// and 32 clients against the raw-commit baseline of the same run).
    #[arg(long, value_parser = ["mutations"])]
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
    let only_mutations = cli.only.as_deref() == Some("mutations");
    match bench::run(&cli.admin_url, scale, cli.quick, only_mutations).await {
        Ok(report) => match std::fs::write(&cli.out, &report) {
            Ok(()) => {
                eprintln!("{report}\nreport written to {}", cli.out.display());
                ExitCode::SUCCESS
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
