//! `weft-bench`: Weft's benchmark runner. One subcommand per benchmark, one module each;
//! every subcommand prints a markdown table to stdout (progress and context go to stderr),
//! and BENCHMARKS.md records the figures with the command that produced them.
//!
//! In-process micro benchmarks (Criterion) will live under `benches/` once there is
//! kernel code worth measuring that way; this binary measures whole systems.
#![forbid(unsafe_code)]

mod common;
mod fixture;
mod list_1m;
mod list_scoped;
mod live_fanout;
mod processes;
mod procurement;
mod raw_commit;
mod records;
mod records_http;
mod report;
mod search;
mod spiff_peer;
mod statements;
mod workload;

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
    /// The Tryton peer workload in process, through the Workspace façade.
    Records(records::Args),
    /// The Tryton peer workload over HTTP, against a `weft serve` started for the run.
    RecordsHttp(records_http::Args),
    /// The filtered list on 1,000,000 purchase orders: p50/p99 of a page and the next one.
    #[command(name = "list-1m")]
    List1m(list_1m::Args),
    /// Lists on 1,000,000 work orders as a guest (party scope) and as members of org units
    /// (unit-tree scope): p50/p95/p99 of a page and the next one.
    #[command(name = "list-scoped")]
    ListScoped(list_scoped::Args),
    /// Issue 7's realtime target: N WebSocket clients of one channel, latency of each
    /// message's delivery.
    #[command(name = "live-fanout")]
    LiveFanout(live_fanout::Args),
    /// Issue 9: the Tryton peer workload in process with the procurement app's own types.
    Procurement(procurement::Args),
    /// Issue 6: the SpiffWorkflow peer's approval process end to end with persistence.
    Processes(processes::Args),
    /// J10: full-text search over 100,000 records and 20,000 messages: index build and
    /// follow rates, commit-to-searchable, query latency as a member and as a guest.
    Search(search::Args),
}

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
            Command::Records(args) => records::run(args).await,
            Command::Procurement(args) => procurement::run(args).await,
            Command::Processes(args) => processes::run(args).await,
            Command::RecordsHttp(args) => records_http::run(args).await,
            Command::List1m(args) => list_1m::run(args).await,
            Command::ListScoped(args) => list_scoped::run(args).await,
            Command::LiveFanout(args) => live_fanout::run(args).await,
            Command::Search(args) => search::run(args).await,
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
