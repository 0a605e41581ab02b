//! `weft-bench`: Weft's benchmark runner. One subcommand per benchmark, one module each;
//! every subcommand prints a markdown table to stdout (progress and context go to stderr),
//! and BENCHMARKS.md records the figures with the command that produced them.
//!
//! In-process micro benchmarks (Criterion) will live under `benches/` once there is
//! kernel code worth measuring that way; this binary measures whole systems.
#![forbid(unsafe_code)]

mod raw_commit;
mod report;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "weft-bench", about = "Weft benchmarks; results are recorded in BENCHMARKS.md")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Raw single-row commit rate of SQLite and PostgreSQL: the physical limit.
    RawCommit(raw_commit::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::RawCommit(args) => raw_commit::run(args).await,
        }
    });
    match result {
        Ok(table) => {
            print!("{table}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
