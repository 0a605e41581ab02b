//! `records`: the Tryton peer workload in process, through the `Workspace` façade (no
//! HTTP), on SQLite (a fresh file in a temporary folder, Weft's default durable settings)
//! and PostgreSQL (a scratch database dropped afterwards), with N concurrent tasks. On
//! SQLite the concurrency matters: the store's writer folds the commands waiting at the
//! same time into one group commit.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result, bail, ensure};
use serde_json::{Map, Value as Json};
use uuid::Uuid;
use weft_model::Principal;
use weft_model::schema::Value;
use weft_store::StoreOptions;
use weft_workspace::{Created, DatabaseLocation, DeclareOptions, ListQuery, Workspace};

use crate::common::{BackendChoice, DEFAULT_DATABASE_URL, ScratchPostgres, interruptible};
use crate::fixture;
use crate::statements::StatementLog;
use crate::workload::{self, Client, ListAnswer, ListCall, Sizes, StepResult};

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Which database(s) to measure.
    #[arg(long, value_enum, default_value_t = BackendChoice::Both)]
    backend: BackendChoice,
    /// Comma-separated numbers of concurrent tasks; each number is a fresh run.
    #[arg(long, value_delimiter = ',', default_value = "8", value_parser = clap::value_parser!(u32).range(1..=512))]
    concurrency: Vec<u32>,
    /// Multiplies Tryton's counts (2,000 suppliers, 1,000 orders, 50 hot suppliers).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=1000))]
    scale: u32,
    /// Filtered list queries in step d (Tryton runs 200; more give a steadier p99).
    #[arg(long, default_value_t = 2_000, value_parser = clap::value_parser!(u32).range(1..=10_000_000))]
    queries: u32,
    /// A step that takes longer than this fails the run.
    #[arg(long, default_value_t = 900, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    step_timeout_secs: u64,
    /// Count SQL statements per command and where their time goes (slows the run a
    /// little: for profiling, not for the record).
    #[arg(long)]
    count_statements: bool,
    /// PostgreSQL server; a scratch database `weft_bench_<random>` is created on it and
    /// dropped afterwards, so the user needs CREATEDB.
    #[arg(long, env = "WEFT_BENCH_DATABASE_URL", hide_env_values = true, default_value = DEFAULT_DATABASE_URL)]
    database_url: String,
    /// Folder for the SQLite scratch files (default: the system temp folder); it must be on
    /// the disk you mean to measure, not on a tmpfs.
    #[arg(long)]
    sqlite_dir: Option<PathBuf>,
}

/// The façade, called the way the HTTP handlers call it.
#[derive(Clone)]
struct InProcess {
    workspace: Workspace,
    principal: Principal,
}

impl Client for InProcess {
    async fn create(&self, type_name: &'static str, input: Map<String, Json>) -> Result<Uuid> {
        match self.workspace.create(&self.principal, type_name, input, None).await? {
            Created::Fresh(view) => Ok(view.system.id),
            Created::Replayed(_) => bail!("a create without idempotency key was replayed"),
        }
    }

    async fn transition(&self, type_name: &'static str, id: Uuid, name: &'static str) -> Result<()> {
        self.workspace.transition(&self.principal, type_name, id, name, None, Map::new()).await?;
        Ok(())
    }

    async fn list(&self, call: ListCall) -> Result<ListAnswer> {
        list_through(&self.workspace, &self.principal, call).await
    }
}

/// One page of `call` through the façade, as the workload checks it: `(state, order_date)`.
pub async fn list_through(workspace: &Workspace, principal: &Principal, call: ListCall) -> Result<ListAnswer> {
    let query = ListQuery {
        filter: Some(call.filter),
        sort: Some(call.sort.to_owned()),
        cursor: call.cursor,
        limit: Some(call.limit),
        ..ListQuery::default()
    };
    let page = workspace.list(principal, call.type_name, &query).await?;
    let rows = page
        .records
        .iter()
        .map(|r| {
            let date = match r.values.get("order_date") {
                Some(Value::Date(d)) => d.to_string(),
                _ => String::new(),
            };
            (r.system.state.clone().unwrap_or_default(), date)
        })
        .collect();
    Ok(ListAnswer { rows, next_cursor: page.next_cursor })
}

/// Opens a migrated workspace with the fixture's types declared.
pub async fn open_workspace(location: DatabaseLocation) -> Result<Workspace> {
    let shown = location.redacted();
    let workspace =
        Workspace::connect(&StoreOptions::new(location)).await.with_context(|| format!("connecting to {shown}"))?;
    workspace.migrate().await.context("migrating the scratch database")?;
    let options = DeclareOptions { app: "bench".into(), ..DeclareOptions::default() };
    let plans = workspace
        .declare_types(&Principal::system(), fixture::declarations()?, &options)
        .await
        .context("declaring the fixture's types")?;
    ensure!(plans.iter().all(|p| p.applied), "the fixture's types were not all declared");
    Ok(workspace)
}

pub async fn run(args: Args) -> Result<String> {
    let sizes = Sizes::scaled(args.scale as usize, args.queries as usize);
    let limit = Duration::from_secs(args.step_timeout_secs);
    let statements = if args.count_statements { Some(StatementLog::install()?) } else { None };
    eprintln!("records (in process): {sizes}; tasks {:?}", args.concurrency);
    let mut runs = Vec::new();
    for &tasks in &args.concurrency {
        let tasks = tasks as usize;
        if args.backend.sqlite() {
            let dir = args.sqlite_dir.clone().unwrap_or_else(std::env::temp_dir);
            let scratch = tempfile::Builder::new()
                .prefix("weft-bench-")
                .tempdir_in(&dir)
                .with_context(|| format!("cannot create a scratch folder in {}", dir.display()))?;
            let location = DatabaseLocation::Sqlite(scratch.path().join("weft.db"));
            eprintln!("SQLite ({}), synchronous=full, {tasks} task(s):", scratch.path().display());
            let results = interruptible(one_run(location, sizes, tasks, limit, statements.as_ref())).await??;
            scratch.close().context("removing the SQLite scratch folder")?;
            runs.push(("SQLite", tasks, results));
        }
        if args.backend.postgres() {
            let db = ScratchPostgres::create(&args.database_url).await?;
            eprintln!("PostgreSQL ({}), {tasks} task(s):", db.shown());
            let location = DatabaseLocation::parse(Some(db.url()), std::path::Path::new("."))
                .map_err(|e| anyhow::anyhow!("scratch database URL: {e}"))?;
            let outcome =
                interruptible(one_run(location, sizes, tasks, limit, statements.as_ref())).await.and_then(|r| r);
            let results = db.finish(outcome).await?;
            runs.push(("PostgreSQL", tasks, results));
        }
    }
    let mut out = workload::table(&runs).to_markdown();
    if let Some(table) = workload::statements_table(&runs) {
        out.push('\n');
        out.push_str(&table.to_markdown());
    }
    Ok(out)
}

async fn one_run(
    location: DatabaseLocation,
    sizes: Sizes,
    tasks: usize,
    limit: Duration,
    statements: Option<&StatementLog>,
) -> Result<Vec<StepResult>> {
    let workspace = open_workspace(location).await?;
    let client = InProcess { workspace: workspace.clone(), principal: crate::common::employee(&workspace).await? };
    let results = workload::run(client, sizes, tasks, limit, statements).await;
    workspace.close().await;
    results
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The whole workload at a tiny size on SQLite: every step runs and checks its pages.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn tiny_workload_runs_on_sqlite() -> Result<()> {
        let dir = tempfile::tempdir()?;
        let sizes = Sizes { suppliers: 20, purchases: 10, hot: 2, queries: 6 };
        let results =
            one_run(DatabaseLocation::Sqlite(dir.path().join("weft.db")), sizes, 3, Duration::from_secs(60), None)
                .await?;
        let ops: Vec<u64> = results.iter().map(|r| r.ops).collect();
        assert_eq!(ops, vec![20, 10, 10, 10, 10, 6]);
        let markdown = workload::table(&[("SQLite", 3, results)]).to_markdown();
        assert!(markdown.contains("quote + confirm"));
        Ok(())
    }
}
